"""Printers (プリンター): print finished PDF documents."""
