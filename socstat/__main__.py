import sys

from socstat.cli import main

sys.exit(main())
