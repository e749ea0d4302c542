{#- JSON in both warehouses: target-duckdb writes JSON columns as DuckDB `json` (text underneath),
    target-postgres as `jsonb` (and arrays of objects as `jsonb[]`). The models call these
    macros, never one database's operators. -#}

{% macro json_type() %}{{ return(adapter.dispatch('json_type', 'tap_events_audit')()) }}{% endmacro %}
{% macro default__json_type() %}json{% endmacro %}
{% macro postgres__json_type() %}jsonb{% endmacro %}

{#- A JSON value (object, array or null) of the warehouse's JSON type, from a JSON column or text. -#}
{% macro as_json(expression) %}{{ return(adapter.dispatch('as_json', 'tap_events_audit')(expression)) }}{% endmacro %}
{% macro default__as_json(expression) %}cast({{ expression }} as json){% endmacro %}
{% macro postgres__as_json(expression) %}to_jsonb({{ expression }}){% endmacro %}

{% macro empty_json_array() %}{{ return(adapter.dispatch('empty_json_array', 'tap_events_audit')()) }}{% endmacro %}
{% macro default__empty_json_array() %}cast('[]' as json){% endmacro %}
{% macro postgres__empty_json_array() %}cast('[]' as jsonb){% endmacro %}

{#- The JSON value at `keys` (a list of object keys) inside `expression`. -#}
{% macro json_at(expression, keys) %}{{ return(adapter.dispatch('json_at', 'tap_events_audit')(expression, keys)) }}{% endmacro %}
{% macro default__json_at(expression, keys) %}json_extract({{ expression }}, '$.{{ keys | join(".") }}'){% endmacro %}
{% macro postgres__json_at(expression, keys) %}({{ expression }} #> '{ {{- keys | join(",") -}} }'){% endmacro %}

{#- The text of the scalar at `keys` inside `expression` (null when absent). -#}
{% macro json_text_at(expression, keys) %}{{ return(adapter.dispatch('json_text_at', 'tap_events_audit')(expression, keys)) }}{% endmacro %}
{% macro default__json_text_at(expression, keys) %}json_extract_string({{ expression }}, '$.{{ keys | join(".") }}'){% endmacro %}
{% macro postgres__json_text_at(expression, keys) %}({{ expression }} #>> '{ {{- keys | join(",") -}} }'){% endmacro %}

{#- Twilio's `event_data.resource_properties`, `{name: {previous, updated}}`, as the list
    `[{field, from, to}]` ordered by field (Telnyx's shape); `[]` when there is none. -#}
{% macro twilio_changes(properties) %}{{ return(adapter.dispatch('twilio_changes', 'tap_events_audit')(properties)) }}{% endmacro %}

{% macro default__twilio_changes(properties) -%}
coalesce((
    select cast(to_json(list(json_object(
        'field', property,
        'from', {{ properties }} -> ('$."' || property || '"') -> '$.previous',
        'to', {{ properties }} -> ('$."' || property || '"') -> '$.updated'
    ) order by property)) as json)
    from (select unnest(json_keys({{ properties }})) as property) as properties
    where json_type({{ properties }}) = 'OBJECT'
), {{ empty_json_array() }})
{%- endmacro %}

{% macro postgres__twilio_changes(properties) -%}
coalesce((
    select jsonb_agg(jsonb_build_object(
        'field', property.key,
        'from', property.value -> 'previous',
        'to', property.value -> 'updated'
    ) order by property.key)
    from jsonb_each(case when jsonb_typeof({{ properties }}) = 'object' then {{ properties }} end) as property
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
