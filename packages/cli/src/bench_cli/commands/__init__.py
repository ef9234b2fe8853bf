"""One module per `bench` command."""
