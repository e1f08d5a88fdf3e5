from transpile.cli import main

if __name__ == "__main__":  # a spawned pool worker (macOS, Windows) imports this without running it
    main()
