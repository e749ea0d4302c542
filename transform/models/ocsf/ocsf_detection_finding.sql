{#- OCSF 1.1 Detection Finding (2004), Create: one per finding of the four starter detections
    (transform/models/detections), with the detection as the analytic (a rule), the event that
    raised it as a related event, who acted and from which IP as its evidence (OCSF 1.1 has the
    finding's own `actor` only in the host profile), and the detection's own columns under `unmapped`. Severity:
    bulk deletions High, credential changes and logins from a new IP Medium, alert surges Low.
    README "Into a SIEM". -#}
{{ config(materialized='incremental', unique_key='event_uid', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{%- set null_text = 'cast(null as ' ~ dbt.type_string() ~ ')' %}

with findings as (
    select
        finding_key, detected_at, provider, account_id, actor_id, actor_type, source_ip, resource_id, resource_type,
        finding_key as related_uid,
        'detect_credential_changes' as detection,
        'Credential ' || credential_action || ': ' || coalesce(resource_type, 'credential') as title,
        3 as severity_id,
        'Medium' as severity,
        message,
        {{ json_object_of([('credential_action', 'credential_action'), ('interface', 'interface'), ('event_type', 'event_type')]) }} as unmapped
    from {{ ref('detect_credential_changes') }}

    union all

    select
        finding_key, detected_at, provider, account_id, actor_id, actor_type, source_ip, {{ null_text }}, {{ null_text }},
        finding_key,
        'detect_new_login_ip',
        'Console login from a new IP address',
        3,
        'Medium',
        message,
        {{ json_object_of([('interface', 'interface')]) }}
    from {{ ref('detect_new_login_ip') }}

    union all

    select
        finding_key, detected_at, provider, account_id, {{ null_text }}, {{ null_text }}, {{ null_text }}, {{ null_text }}, {{ null_text }},
        {{ null_text }},
        'detect_alert_surges',
        'Alert surge: error ' || error_code,
        2,
        'Low',
        cast(alerts as {{ dbt.type_string() }}) || ' alerts of error ' || error_code || ' in the hour from '
            || cast(hour_start as {{ dbt.type_string() }}) || ' (baseline ' || cast(round(cast(baseline_per_hour as numeric), 2) as {{ dbt.type_string() }}) || ' an hour)',
        {{ json_object_of([('error_code', 'error_code'), ('hour_start', rfc3339('hour_start')), ('alerts', 'alerts'), ('baseline_per_hour', 'baseline_per_hour')]) }}
    from {{ ref('detect_alert_surges') }}

    union all

    select
        finding_key, detected_at, provider, account_id, actor_id, actor_type, {{ null_text }}, {{ null_text }}, {{ null_text }},
        finding_key,
        'detect_bulk_deletions',
        'Bulk deletion',
        4,
        'High',
        coalesce(cast(deletions_in_hour as {{ dbt.type_string() }}) || ' deletions within an hour', 'A bulk deletion (' || reason || ')'),
        {{ json_object_of([('reason', 'reason'), ('deletions_in_hour', 'deletions_in_hour')]) }}
    from {{ ref('detect_bulk_deletions') }}
),

keyed as (
    select
        *,
        {#- activity keys are `provider:source key`; the related event's uid is the source key -#}
        substr(related_uid, length(provider) + 2) as related_event_uid
    from findings
)

select
    {{ ocsf_columns('finding_key', 2004, 1, 'detected_at', 'provider', 'account_id',
        ocsf_base_pairs(2004, 'Detection Finding', 2, 'Findings', 1, "'Create'",
            'finding_key', 'detected_at', 'severity_id', 'severity', "'tap-events detections'", "'tap-events'",
            'detection', 'detection', ocsf_vendor('provider'), 'account_id')
        + [
            ('message', 'message'),
            ('finding_info', json_object_of([
                ('uid', 'finding_key'),
                ('title', 'title'),
                ('types', json_array_of(['detection'])),
                ('created_time', epoch_ms('detected_at')),
                ('analytic', json_object_of([('name', 'detection'), ('uid', 'detection'), ('type_id', 1), ('type', "'Rule'")])),
                ('related_events', 'case when related_event_uid is not null then '
                    ~ json_array_of([json_object_of([('uid', 'related_event_uid')])]) ~ ' end'),
            ])),
            ('evidences', 'case when coalesce(actor_id, source_ip) is not null then '
                ~ json_array_of([json_object_of([
                    ('actor', 'case when actor_id is not null then ' ~ ocsf_actor('actor_id', 'actor_type', 'provider') ~ ' end'),
                    ('src_endpoint', 'case when source_ip is not null then ' ~ json_object_of([('ip', 'source_ip')]) ~ ' end'),
                ])]) ~ ' end'),
            ('resources', 'case when resource_id is not null then '
                ~ json_array_of([json_object_of([('uid', 'resource_id'), ('type', 'resource_type')])]) ~ ' end'),
            ('observables', 'case when source_ip is not null then '
                ~ json_array_of([json_object_of([('name', "'src_endpoint.ip'"), ('type_id', 2), ('type', "'IP Address'"), ('value', 'source_ip')])]) ~ ' end'),
            ('unmapped', 'unmapped'),
        ]) }}
from keyed
{{ ocsf_new_events_only('finding_key') }}
