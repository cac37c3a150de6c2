"""Kafka topics: the specs a stage owns, the create/fix plan and the deletion rules (pure), and the
one I/O shell that reads and changes the broker (``admin``, with client auth in ``client``)."""
