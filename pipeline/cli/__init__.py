"""The `callqa` command line. `main` holds the library's commands, `corpus` import and eval,
`common` what they share; `flows.cli` adds the commands that start Prefect flows."""
