"""Tables, migrations, queries and the content-addressed artifact store."""
