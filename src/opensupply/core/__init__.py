"""Core services every module stands on: config, database, auth, audit, sequences, events, jobs, i18n.

Its module entry (menu, permissions) is declared in `opensupply.registry`, which this
package's own modules import."""
