-- openai.usage: daily usage of every family (completions, embeddings, moderations, images,
-- audio_speeches, audio_transcriptions, vector_stores, code_interpreter_sessions,
-- file_search_calls, web_search_calls) in one long table.
-- Grain: (usage_date, usage_type, project_id, api_key_id, model, batch, service_tier,
--         image_size, image_source, vector_store_id, context_level), NULLs compared as values:
--         a NULL dimension is a real "unassigned" group (or a dimension the family lacks).
-- Partitioned by usage_date (UTC day). A metric the family does not report is 0.
-- Read with e.g. `WHERE usage_type = 'completions'`; sum metrics across families only
-- where they mean the same thing (num_model_requests does).
CREATE TABLE IF NOT EXISTS openai.usage (
    organization_id     VARCHAR NOT NULL,
    usage_date          DATE    NOT NULL,  -- UTC day of the 1d bucket
    usage_type          VARCHAR NOT NULL,  -- the usage family, e.g. 'completions'
    project_id          VARCHAR,           -- NULL: organization-level traffic
    api_key_id          VARCHAR,           -- NULL: family without keys, or unattributed
    model               VARCHAR,
    batch               BOOLEAN,           -- completions only
    service_tier        VARCHAR,           -- completions only
    image_size          VARCHAR,           -- images only, e.g. '1024x1024'
    image_source        VARCHAR,           -- images only, e.g. 'image.generation'
    vector_store_id     VARCHAR,           -- file_search_calls only
    context_level       VARCHAR,           -- web_search_calls only: 'low', 'medium', 'high'
    input_tokens        BIGINT  NOT NULL DEFAULT 0,
    output_tokens       BIGINT  NOT NULL DEFAULT 0,
    input_cached_tokens BIGINT  NOT NULL DEFAULT 0,
    input_audio_tokens  BIGINT  NOT NULL DEFAULT 0,
    output_audio_tokens BIGINT  NOT NULL DEFAULT 0,
    num_model_requests  BIGINT  NOT NULL DEFAULT 0,
    images              BIGINT  NOT NULL DEFAULT 0,
    characters          BIGINT  NOT NULL DEFAULT 0,
    seconds             BIGINT  NOT NULL DEFAULT 0,
    usage_bytes         BIGINT  NOT NULL DEFAULT 0,
    num_sessions        BIGINT  NOT NULL DEFAULT 0,
    num_requests        BIGINT  NOT NULL DEFAULT 0
);
