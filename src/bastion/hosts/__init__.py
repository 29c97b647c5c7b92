"""Trusted hosts: the Host/port policy (``policy``) and its WSGI middleware (``middleware``),
public together as ``bastion.trusted_hosts``."""
