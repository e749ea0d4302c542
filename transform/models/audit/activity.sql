{#- One row per record of the five event streams, in columns modelled on OCSF's API Activity and
    Account Change classes (README "The audit trail in SQL" documents every column). Incremental:
    a run adds only the records whose key is not here yet (events never change once written), and
    `delete+insert` on the key keeps a re-run idempotent. -#}
{{ config(
    materialized='incremental',
    unique_key='activity_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with monitor_events as (
    select
        'twilio:' || sid as activity_key,
        'twilio' as provider,
        'twilio_monitor_events' as stream,
        sid as source_record_id,
        'account_change' as category,
        account_sid as account_id,
        event_date as occurred_at,
        {{ activity_of('event_type') }} as activity,
        event_type,
        actor_sid as actor_id,
        actor_type,
        source_ip_address as source_ip,
        {{ twilio_interface('source') }} as interface,
        resource_type,
        resource_sid as resource_id,
        cast(null as {{ dbt.type_string() }}) as severity,
        coalesce(description, event_type || ' ' || coalesce(resource_sid, '')) as message,
        {{ twilio_changes('event_data') }} as changes
    from {{ ref('stg_twilio_monitor_events') }}
),

monitor_alerts as (
    select
        'twilio:' || sid,
        'twilio',
        'twilio_monitor_alerts',
        sid,
        'alert',
        account_sid,
        date_created,
        'other',
        error_code,
        cast(null as {{ dbt.type_string() }}),
        'twilio',
        cast(null as {{ dbt.type_string() }}),
        'internal',
        {{ twilio_sid_type('resource_sid') }},
        resource_sid,
        log_level,
        'Error ' || error_code || ' (' || log_level || '): ' || coalesce(request_method || ' ' || request_url, alert_text, ''),
        {{ empty_json_array() }}
    from {{ ref('stg_twilio_monitor_alerts') }}
),

taskrouter_events as (
    select
        'twilio:' || sid,
        'twilio',
        'twilio_taskrouter_events',
        sid,
        'contact_center',
        account_sid,
        event_date,
        {{ activity_of('event_type') }},
        event_type,
        actor_sid,
        actor_type,
        source_ip_address,
        {{ twilio_interface('source') }},
        resource_type,
        resource_sid,
        cast(null as {{ dbt.type_string() }}),
        coalesce(description, event_type || ' ' || coalesce(resource_sid, '')),
        {{ empty_json_array() }}
    from {{ ref('stg_twilio_taskrouter_events') }}
),

serverless_logs as (
    select
        'twilio:' || sid,
        'twilio',
        'twilio_serverless_logs',
        sid,
        'function_log',
        account_sid,
        date_created,
        'other',
        'function-log.' || lower(coalesce(level, 'info')),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        'internal',
        'function',
        function_sid,
        lower(level),
        message,
        {{ empty_json_array() }}
    from {{ ref('stg_twilio_serverless_logs') }}
),

telnyx_audit_events as (
    select
        'telnyx:' || id,
        'telnyx',
        'telnyx_audit_events',
        id,
        'account_change',
        organization_id,
        created_at,
        {{ activity_of('change_type') }},
        change_type,
        user_id,
        change_made_by,
        cast(null as {{ dbt.type_string() }}),
        case when change_made_by = 'telnyx' then 'internal' end,
        case when record_type <> 'audit_event' then record_type end,
        resource_id,
        cast(null as {{ dbt.type_string() }}),
        change_type || ' ' || coalesce(nullif(record_type, 'audit_event'), 'resource') || ' '
            || coalesce(alternate_resource_id, resource_id, ''),
        changes
    from {{ ref('stg_telnyx_audit_events') }}
),

every_event as (
    select * from monitor_events
    union all select * from monitor_alerts
    union all select * from taskrouter_events
    union all select * from serverless_logs
    union all select * from telnyx_audit_events
)

select
    every_event.*,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as transformed_at
from every_event
{% if is_incremental() %}
where not exists (select 1 from {{ this }} as known where known.activity_key = every_event.activity_key)
{% endif %}
