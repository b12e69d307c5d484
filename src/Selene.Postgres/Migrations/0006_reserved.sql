-- 0006: PLACEHOLDER on branch `profiles` only. Version 6 belongs to the migration being written on main at the same
-- time; this file exists so that the branch's migrations stay numbered without gaps. DELETE IT WHEN MERGING
-- (two files numbered 0006 make the migrator refuse to start, so a forgotten placeholder cannot go unnoticed).
SELECT 1;
