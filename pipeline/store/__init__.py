"""The database: schema (`schema.sql`), locks and transactions (`database`), every write
(`writes`), the shared read queries (`reads`) and retention (`retention`)."""
