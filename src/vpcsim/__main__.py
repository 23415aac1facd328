"""``python -m vpcsim`` runs the command line."""

from vpcsim.cli import main

main()
