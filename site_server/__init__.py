"""`cmskit-serve`: the built site and the forms sidecar on one origin, for development.

Not part of the forms app: it serves the whole built site (`static`: a WSGI app that serves
a built MkDocs folder as a static web server would) and mounts the forms app under
``/forms`` (`forms`: the app in development settings with its queue migrated and a demo
support ID), the way nginx and gunicorn do in production (deploy/). `cli` is the command.
"""
