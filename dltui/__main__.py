"""`python -m dltui` behaves exactly like the `dltui` script."""

from dltui.cli import main

raise SystemExit(main())
