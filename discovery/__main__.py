"""``python -m discovery`` runs the command line."""

from discovery.cli import main

if __name__ == "__main__":  # not when a spawned worker imports this module as __mp_main__
    main()
