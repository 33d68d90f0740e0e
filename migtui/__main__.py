from migtui.cli import main

main()
