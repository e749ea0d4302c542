{#- One row per primary key of a loaded table, the newest extraction winning, with its `loaded_at`
    (`_sdc_batched_at`). Append-only loaders keep every copy the tap's lookback re-read; upserting
    ones already keep one (target-duckdb writes no `_sdc_` columns: `loaded_at` is null there).
    A table the loader never made (a provider without credentials is skipped) reads as no rows of
    `read_columns`, so that the project builds for Twilio or Telnyx alone. -#}
{% macro newest_extraction(relation, key, read_columns) %}
    {%- if execute and load_relation(relation) is none -%}
    select
        {%- for column in read_columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at
    where 1 = 0
    {%- else -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- set order = [] -%}
    {%- for column in ['_sdc_batched_at', '_sdc_extracted_at', '_sdc_sequence'] if column in columns -%}
        {%- do order.append(column ~ ' desc nulls last') -%}
    {%- endfor -%}
    select * from (
        select
            loaded.*,
            {{ '_sdc_batched_at' if '_sdc_batched_at' in columns else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' }} as loaded_at,
            row_number() over (
                partition by {{ key }}
                order by {{ order | join(', ') if order else key }}
            ) as extraction_rank
        from {{ relation }} as loaded
    ) as ranked
    where extraction_rank = 1
    {%- endif %}
{% endmacro %}

{#- What happened to the resource, as OCSF's activity (created, updated, deleted or other): from
    Twilio's `RESOURCE_TYPE.ACTION` event types, or Telnyx's `change_type` (create, update, delete). -#}
{% macro activity_of(event_type) -%}
case
    when {{ event_type }} = 'create' or {{ event_type }} like '%.created' or {{ event_type }} like '%.%-created' then 'created'
    when {{ event_type }} = 'update' or {{ event_type }} like '%.updated' then 'updated'
    when {{ event_type }} = 'delete' or {{ event_type }} like '%.deleted' or {{ event_type }} like '%.%-deleted'
        or {{ event_type }} like '%.deletedall' then 'deleted'
    else 'other'
end
{%- endmacro %}

{#- The interface a Twilio event came from: `web` (Console), `api`, or anything Twilio did itself. -#}
{% macro twilio_interface(source) -%}
case when {{ source }} = 'web' then 'web' when {{ source }} = 'api' then 'api' else 'internal' end
{%- endmacro %}

{#- The resource type a Twilio SID names, from its two-letter prefix (null when not listed). -#}
{% macro twilio_sid_type(sid) -%}
case substr({{ sid }}, 1, 2)
    when 'CA' then 'call'
    when 'SM' then 'message'
    when 'MM' then 'message'
    when 'PN' then 'phone-number'
    when 'RE' then 'recording'
    when 'CF' then 'conference'
    when 'AP' then 'application'
    when 'ZS' then 'serverless-service'
    when 'WS' then 'workspace'
end
{%- endmacro %}
