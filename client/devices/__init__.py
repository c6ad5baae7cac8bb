"""Device plugins, Qt-free: scanners, printers, card readers, biometric readers.

Each family is a ``base.py`` contract (a :class:`shared.plugins.Plugin`), a ``registry.py`` (a
:class:`shared.plugins.Registry` listing the modules of its implementations) and implementations,
always including ``fake`` for tests and demo mode.
"""
