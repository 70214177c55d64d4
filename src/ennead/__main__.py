from ennead.core.cli.app import main

main()
