"""Printing (印刷): the forms of a reception as PDF with IPAmj明朝, then to a printer plugin.

- :mod:`.fonts` — IPAmj明朝 for reportlab, IVS drawn as the font defines them, text extractable.
- :mod:`.layouts` — the layouts of ``form_templates/print/`` (data, not code).
- :mod:`.render` — one layout + one 住民異動届 → PDF bytes.
- :mod:`.service` — which forms a notice needs; render all; print through a printer plugin.

Qt-free: the counter screen calls :func:`.service.print_forms` off the UI thread.
"""
