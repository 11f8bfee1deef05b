"""`python -m archgym.cli ...` is the `archgym` command."""
import sys

from archgym.cli import main

sys.exit(main())
