"""The process: least privilege at start-up (``privileges``); Unix-only parts say so."""
