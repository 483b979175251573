"""Checkout tooling: the local stack (``ccmon stack``), process helpers and the notification sink.

Works on a repository checkout (see :func:`otel_ccmon.devstack.repo.find_repo`) with the binaries
that ``scripts/bootstrap.sh`` installs; needs the ``cli`` extra (``pip install 'otel-ccmon[cli]'``).
"""
