from prepaid.cli import main

main()
