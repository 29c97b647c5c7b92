"""Trusted proxies: what a reverse proxy in front may tell the application, and how.

- ``forwarded``: the grammar of Forwarded and the X-Forwarded-* headers (pure functions);
- ``peers``: the ``trusted_proxy`` option and the matcher of trusted peer addresses;
- ``rules``: the rules between the trusted-proxy options, applied once by the config;
- ``policy``: the proxy-header policy and its WSGI middleware (public as
  ``bastion.proxy_headers``);
- ``protocol``: the PROXY protocol preamble (v1 and v2), sans-IO.
"""
