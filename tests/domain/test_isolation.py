"""The domain layer must import without Flask or SQLAlchemy."""

import subprocess
import sys

from tests.conftest import child_env


def test_domain_imports_without_flask_or_sqlalchemy():
    """Importing every domain module loads neither flask nor sqlalchemy."""
    code = (
        "import sys, pkgutil, importlib, grants.domain as d\n"
        "for m in pkgutil.iter_modules(d.__path__):\n"
        "    importlib.import_module('grants.domain.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'flask', 'sqlalchemy'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=child_env()
    )
    assert result.stdout.strip() == ""
