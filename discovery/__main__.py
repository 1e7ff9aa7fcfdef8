"""``python -m discovery`` runs the command line."""

from discovery.cli import main

main()
