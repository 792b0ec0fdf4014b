#!/usr/bin/env bash
# dashboard_arena on PostgreSQL (a throwaway cluster): the arena's queries run
# against PostgreSQL's tables and every figure is checked as on SQLite.
ARENA_PG=1 exec bash "$AT_SOURCE_DIR/tests/runtime/dashboard_arena.sh"
