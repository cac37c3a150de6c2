"""The Connect image: what goes into its build context, its fingerprint, its bases, and the build.

Pure: ``context`` (the one list of what the image needs, ``.dockerignore`` rendering, Docker's
matching rules), ``dockerfile`` (``ARG`` defaults), ``fingerprint`` (the input hash that tags an
image), ``bases`` (the local Debian base recipes and the choice between them and the upstream
bases). Shell: ``engine`` (find a Docker engine or run a private one), ``build`` (bases, image).
"""
