from transpile.cli import main

main()
