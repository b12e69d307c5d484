-- Replay (issue 15): with a turn's decision, what the engine's decider saw and decided (the runtime's decision record,
-- canonical JSON: command, state, facts, context, outcome), so `selene replay` can run the pure decider again.
-- Turns decided before carry none and replay their gate only.
ALTER TABLE selene.os_turn_decisions
    ADD COLUMN engine_input text CHECK (engine_input IS NULL OR jsonb_typeof(engine_input::jsonb) = 'object');
