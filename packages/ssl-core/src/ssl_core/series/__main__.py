"""``python -m ssl_core.series FOLDER``: write the generated strain and check it
(:func:`ssl_core.series.gw.main`)."""

from ssl_core.series.gw import main

main()
