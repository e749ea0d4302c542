{#- OCSF events as JSON documents, in both warehouses (README "Into a SIEM"). The models build each
    event with these macros, never one database's JSON functions. Absent values are SQL nulls, kept
    as JSON nulls: OCSF has no null, so a consumer drops them (scripts/export_ocsf.py does). -#}

{#- The pinned OCSF version: Amazon Security Lake documents 1.1 for custom sources. -#}
{% macro ocsf_version() %}1.1.0{% endmacro %}

{#- A JSON object of `pairs`, a list of (key, SQL expression). -#}
{% macro json_object_of(pairs) %}{{ return(adapter.dispatch('json_object_of', 'tap_events_audit')(pairs)) }}{% endmacro %}
{% macro default__json_object_of(pairs) -%}
json_object({% for key, value in pairs %}'{{ key }}', {{ value }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
{% macro postgres__json_object_of(pairs) -%}
jsonb_build_object({% for key, value in pairs %}'{{ key }}', {{ value }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- A JSON object with more members: `pairs`, a list of (key, SQL expression). -#}
{% macro json_with_members(document, pairs) %}{{ return(adapter.dispatch('json_with_members', 'tap_events_audit')(document, pairs)) }}{% endmacro %}
{% macro default__json_with_members(document, pairs) %}json_merge_patch({{ document }}, {{ json_object_of(pairs) }}){% endmacro %}
{% macro postgres__json_with_members(document, pairs) %}({{ document }} || {{ json_object_of(pairs) }}){% endmacro %}

{#- A JSON array of `items`, SQL expressions. -#}
{% macro json_array_of(items) %}{{ return(adapter.dispatch('json_array_of', 'tap_events_audit')(items)) }}{% endmacro %}
{% macro default__json_array_of(items) %}json_array({{ items | join(', ') }}){% endmacro %}
{% macro postgres__json_array_of(items) %}jsonb_build_array({{ items | join(', ') }}){% endmacro %}

{#- OCSF's timestamp_t: milliseconds since the epoch, a 64-bit integer (timestamps are UTC). -#}
{% macro epoch_ms(expression) %}{{ return(adapter.dispatch('epoch_ms', 'tap_events_audit')(expression)) }}{% endmacro %}
{% macro default__epoch_ms(expression) %}epoch_ms({{ expression }}){% endmacro %}
{% macro postgres__epoch_ms(expression) %}cast(floor(extract(epoch from {{ expression }}) * 1000) as bigint){% endmacro %}

{#- OCSF's datetime_t: RFC 3339 text, UTC, to the microsecond. -#}
{% macro rfc3339(expression) %}{{ return(adapter.dispatch('rfc3339', 'tap_events_audit')(expression)) }}{% endmacro %}
{% macro default__rfc3339(expression) %}strftime({{ expression }}, '%Y-%m-%dT%H:%M:%S.%fZ'){% endmacro %}
{% macro postgres__rfc3339(expression) %}to_char({{ expression }}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'){% endmacro %}

{#- The attributes every OCSF event of this project has, as (key, SQL expression) pairs: class,
    activity, type_uid = class_uid * 100 + activity_id, time, severity, metadata (the source record's
    key in `uid`, its time as the source said), and the provider's account under `cloud`. -#}
{% macro ocsf_base_pairs(class_uid, class_name, category_uid, category_name, activity_id, activity_name, uid, occurred_at, severity_id, severity, product, vendor, log_name, event_code, provider, account_id, loaded_at='null') -%}
{%- do return([
    ('category_uid', category_uid),
    ('category_name', "'" ~ category_name ~ "'"),
    ('class_uid', class_uid),
    ('class_name', "'" ~ class_name ~ "'"),
    ('activity_id', activity_id),
    ('activity_name', activity_name),
    ('type_uid', 'cast(' ~ class_uid ~ ' * 100 + ' ~ activity_id ~ ' as bigint)'),
    ('type_name', "'" ~ class_name ~ ": ' || " ~ activity_name),
    ('time', epoch_ms(occurred_at)),
    ('time_dt', rfc3339(occurred_at)),
    ('severity_id', severity_id),
    ('severity', severity),
    ('metadata', json_object_of([
        ('version', "'" ~ ocsf_version() ~ "'"),
        ('uid', uid),
        ('product', json_object_of([('name', product), ('vendor_name', vendor)])),
        ('profiles', json_array_of(["'cloud'", "'datetime'"])),
        ('log_name', log_name),
        ('log_provider', "'tap-events'"),
        ('event_code', event_code),
        ('original_time', rfc3339(occurred_at)),
        ('logged_time', 'null' if loaded_at == 'null' else epoch_ms(loaded_at)),
        ('processed_time', epoch_ms("cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S") ~ "' as " ~ dbt.type_timestamp() ~ ")")),
    ])),
    ('cloud', json_object_of([
        ('provider', provider),
        ('account', json_object_of([('uid', account_id)])),
    ])),
]) -%}
{%- endmacro %}

{#- The actor: the user the source names, or (when it names none) what acted: Twilio or Telnyx itself. -#}
{% macro ocsf_actor(actor_id, actor_type, fallback) -%}
case
    when {{ actor_id }} is not null then {{ json_object_of([('user', json_object_of([('uid', actor_id), ('type', actor_type)]))]) }}
    else {{ json_object_of([('invoked_by', 'coalesce(' ~ actor_type ~ ', ' ~ fallback ~ ')')]) }}
end
{%- endmacro %}

{#- The source endpoint: its IP, and the interface the source names (web = Console, api, or the
    provider's own systems). -#}
{% macro ocsf_src_endpoint(source_ip, interface, provider) -%}
{{ json_object_of([('ip', source_ip), ('name', 'coalesce(' ~ interface ~ ', ' ~ provider ~ ')')]) }}
{%- endmacro %}

{#- The columns every OCSF model has beside the event itself: what the export partitions, sorts
    and keeps track of. -#}
{% macro ocsf_columns(uid, class_uid, activity_id, occurred_at, provider, account_id, pairs) -%}
    {{ uid }} as event_uid,
    {{ class_uid }} as class_uid,
    cast({{ class_uid }} * 100 + {{ activity_id }} as {{ dbt.type_bigint() }}) as type_uid,
    {{ occurred_at }} as event_time,
    {{ provider }} as provider,
    {{ account_id }} as account_id,
    {{ json_object_of(pairs) }} as event,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as transformed_at
{%- endmacro %}

{#- An integer member of a JSON document column. -#}
{% macro json_integer(document, member) %}{{ return(adapter.dispatch('json_integer', 'tap_events_audit')(document, member)) }}{% endmacro %}
{% macro default__json_integer(document, member) %}cast(json_extract({{ document }}, '$.{{ member }}') as bigint){% endmacro %}
{% macro postgres__json_integer(document, member) %}cast({{ document }} ->> '{{ member }}' as bigint){% endmacro %}
