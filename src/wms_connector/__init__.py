"""wms-connector: CDC from the WMS Oracle waiver tables to the BigMAC Kafka cluster.

Layout (the layering is checked by ``lint-imports``, see ``.importlinter``):

* ``stages``, ``naming``, ``plan``: a stage and everything derived from it (pure);
* ``secrets``: every secret's shape (pure) and where it lives, with fallback;
* ``connect``: connector and worker configs (pure) and the Kafka Connect REST client;
* ``kafka``: topic specs, the create/fix plan and the deletion rules (pure), and the broker shell;
* ``agent``: the connect-agent sidecar;
* ``preflight``, ``local``, ``infra``, ``lambdas``, ``commands`` + ``cli``: the Oracle checker, the
  local runtime, the CDK app, the Lambda handlers and the CLI.
"""
