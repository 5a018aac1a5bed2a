"""Local SQLite storage (see ``database``); the public names are re-exported here."""
from .database import *  # noqa: F401,F403
from .database import (BUNDLE_FLAG_COLUMNS, BUNDLE_REP_COLUMNS, BUNDLE_SESSION_COLUMNS,  # noqa: F401
                       _Keep, MIGRATIONS)
