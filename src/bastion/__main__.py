"""``python -m bastion``: the same as the ``bastion`` command."""

from .cli import main

raise SystemExit(main())
