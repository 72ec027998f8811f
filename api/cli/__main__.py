"""``python -m api.cli`` runs the ``wuye`` command (the test and bench servers start it so)."""

from api.cli import main

main()
