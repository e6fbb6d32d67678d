"""``briefqa serve``: a local, read-only web app over an index (docs/web.md).

Needs the web extra (``pip install 'briefqa[web]'``). The library never imports this package.
"""
