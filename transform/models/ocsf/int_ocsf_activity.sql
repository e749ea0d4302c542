{#- The `activity` rows OCSF classes are made of (Monitor Events, TaskRouter events, Telnyx audit
    events: not alerts nor function logs, for which OCSF 1.1 has no class), each with the rest of
    its source record (`unmapped`: the fields no OCSF attribute holds), when it was loaded, and
    which class it belongs to: a Console login is Authentication, a credential change
    (detect_credential_changes) Account Change, any other API Activity. -#}
{{ config(materialized='ephemeral') }}

select
    activity.*,
    case
        when activity.event_type in ({%- for type in var('login_event_types') %}'{{ type }}'{{ ", " if not loop.last }}{% endfor -%})
            and activity.actor_id is not null then 'authentication'
        when credentials.finding_key is not null then 'account_change'
        else 'api_activity'
    end as ocsf_class,
    credentials.credential_action,
    coalesce(monitor.loaded_at, taskrouter.loaded_at, telnyx.loaded_at) as loaded_at,
    telnyx.alternate_resource_id,
{%- set rest = {
    'twilio_monitor_events': [('source', 'monitor.source'), ('description', 'monitor.description'), ('event_data', 'monitor.event_data'), ('links', 'monitor.links'), ('url', 'monitor.url')],
    'twilio_taskrouter_events': [('workspace_sid', 'taskrouter.workspace_sid'), ('source', 'taskrouter.source'), ('description', 'taskrouter.description'), ('event_data', 'taskrouter.event_data'), ('url', 'taskrouter.url'), ('actor_url', 'taskrouter.actor_url'), ('resource_url', 'taskrouter.resource_url'), ('event_date_ms', 'taskrouter.event_date_ms')],
    'telnyx_audit_events': [('change_made_by', 'telnyx.change_made_by'), ('record_type', 'telnyx.record_type')],
} %}
    case activity.stream
        {%- for stream, pairs in rest.items() %}
        when '{{ stream }}' then {{ json_object_of(pairs) }}
        {%- endfor %}
    end as unmapped
from {{ ref('activity') }} as activity
left join {{ ref('stg_twilio_monitor_events') }} as monitor
    on activity.stream = 'twilio_monitor_events' and monitor.sid = activity.source_record_id
left join {{ ref('stg_twilio_taskrouter_events') }} as taskrouter
    on activity.stream = 'twilio_taskrouter_events' and taskrouter.sid = activity.source_record_id
left join {{ ref('stg_telnyx_audit_events') }} as telnyx
    on activity.stream = 'telnyx_audit_events' and telnyx.id = activity.source_record_id
left join {{ ref('detect_credential_changes') }} as credentials
    on credentials.finding_key = activity.activity_key
where activity.stream in ('twilio_monitor_events', 'twilio_taskrouter_events', 'telnyx_audit_events')
