"""WSGI glue (PEP 3333): environ, wsgi.input, wsgi.file_wrapper."""
