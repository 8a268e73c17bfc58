"""grants: a transparent, multilingual platform for cultural-cooperation grants.

Kept tiny on purpose: ``grants.domain`` must import without Flask or SQLAlchemy,
so the application factory lives in ``grants.app``.
"""
