"""The CTC runner: anchors against tests under the common test conditions, BD-rate reports.

- :mod:`.sequences` sequence lists (YAML) and :mod:`.builtin` the built-in default set;
- :mod:`.settings` the named codec settings ("anchor", "x265", "cnn:SET", ...);
- :mod:`.jobs`, :mod:`.store`, :mod:`.executor`, :mod:`.runner` planning and resumable running;
- :mod:`.report` BD-rate tables (JCT-VC layout), CSV/Markdown/HTML and RD plots.

See docs/ctc.md.
"""
