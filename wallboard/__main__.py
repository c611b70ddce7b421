from wallboard.cli import main

raise SystemExit(main())
