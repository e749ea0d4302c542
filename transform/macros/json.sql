{#- JSON in both warehouses: target-duckdb writes JSON columns as DuckDB `json` (text underneath),
    target-postgres as `jsonb` (and arrays of objects as `jsonb[]`). The models call these
    macros, never one database's operators. -#}

{#- A JSON value (object, array or null) of the warehouse's JSON type, from a JSON column or text. -#}
{% macro as_json(expression) %}{{ return(adapter.dispatch('as_json', 'tap_events_audit')(expression)) }}{% endmacro %}
{% macro default__as_json(expression) %}cast({{ expression }} as json){% endmacro %}
{% macro postgres__as_json(expression) %}to_jsonb({{ expression }}){% endmacro %}

{% macro empty_json_array() %}{{ return(adapter.dispatch('empty_json_array', 'tap_events_audit')()) }}{% endmacro %}
{% macro default__empty_json_array() %}cast('[]' as json){% endmacro %}
{% macro postgres__empty_json_array() %}cast('[]' as jsonb){% endmacro %}

{#- Twilio's changed properties, `{name: {previous, updated}}`, as the list `[{field, from, to}]`
    ordered by field (Telnyx's shape); `[]` when there is none. Twilio's docs say they are under
    `event_data.resource_properties`, while their example has them at the top of `event_data`: both
    are read (at the top, only entries that have `previous` or `updated` count). -#}
{% macro twilio_changes(event_data) %}{{ return(adapter.dispatch('twilio_changes', 'tap_events_audit')(event_data)) }}{% endmacro %}

{% macro default__twilio_changes(event_data) -%}
{%- set nested = "json_extract(" ~ event_data ~ ", '$.resource_properties')" -%}
{%- set properties = "(case when json_type(" ~ nested ~ ") = 'OBJECT' then " ~ nested ~ " else " ~ event_data ~ " end)" -%}
coalesce((
    select cast(to_json(list(json_object(
        'field', property,
        'from', json_extract(property_value, '$.previous'),
        'to', json_extract(property_value, '$.updated')
    ) order by property)) as json)
    from (
        select property, json_extract({{ properties }}, '$."' || property || '"') as property_value
        from (select unnest(json_keys({{ properties }})) as property) as names
        where json_type({{ properties }}) = 'OBJECT'
    ) as entries
    where json_type(property_value) = 'OBJECT'
      and (json_extract(property_value, '$.previous') is not null or json_extract(property_value, '$.updated') is not null)
), {{ empty_json_array() }})
{%- endmacro %}

{% macro postgres__twilio_changes(event_data) -%}
{%- set nested = "(" ~ event_data ~ " -> 'resource_properties')" -%}
{%- set properties = "(case when jsonb_typeof(" ~ nested ~ ") = 'object' then " ~ nested ~ " else " ~ event_data ~ " end)" -%}
coalesce((
    select jsonb_agg(jsonb_build_object(
        'field', property.key,
        'from', property.value -> 'previous',
        'to', property.value -> 'updated'
    ) order by property.key)
    from jsonb_each(case when jsonb_typeof({{ properties }}) = 'object' then {{ properties }} end) as property
    where jsonb_typeof(property.value) = 'object' and (property.value ? 'previous' or property.value ? 'updated')
), {{ empty_json_array() }})
{%- endmacro %}

{#- A JSON array column as a JSON array; `[]` for null or anything that is not an array. -#}
{% macro json_array_or_empty(expression) %}{{ return(adapter.dispatch('json_array_or_empty', 'tap_events_audit')(expression)) }}{% endmacro %}
{% macro default__json_array_or_empty(expression) -%}
case when json_type({{ as_json(expression) }}) = 'ARRAY' then {{ as_json(expression) }} else {{ empty_json_array() }} end
{%- endmacro %}
{% macro postgres__json_array_or_empty(expression) -%}
case when jsonb_typeof({{ as_json(expression) }}) = 'array' then {{ as_json(expression) }} else {{ empty_json_array() }} end
{%- endmacro %}

{#- Whether a `changes` list has a field named `prefix` or `prefix.…` (for any of `prefixes`). -#}
{% macro changes_touch(changes, prefixes) %}{{ return(adapter.dispatch('changes_touch', 'tap_events_audit')(changes, prefixes)) }}{% endmacro %}
{% macro default__changes_touch(changes, prefixes) -%}
regexp_matches(cast({{ changes }} as varchar), '"field": ?"({{ prefixes | join("|") }})[."]')
{%- endmacro %}
{% macro postgres__changes_touch(changes, prefixes) -%}
(cast({{ changes }} as text) ~ '"field": ?"({{ prefixes | join("|") }})[."]')
{%- endmacro %}
