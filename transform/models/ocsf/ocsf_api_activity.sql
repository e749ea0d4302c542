{#- OCSF 1.1 API Activity (6003): a change made to a Twilio or Telnyx resource through the API or
    the Console (Monitor Events, TaskRouter events, Telnyx audit events), other than a Console login
    (ocsf_authentication) or a credential change (ocsf_account_change). README "Into a SIEM". -#}
{{ config(materialized='incremental', unique_key='event_uid', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

with events as (
    select
        *,
        case activity when 'created' then 1 when 'updated' then 3 when 'deleted' then 4 else 99 end as activity_id,
        case activity when 'created' then 'Create' when 'updated' then 'Update' when 'deleted' then 'Delete' else event_type end as activity_name
    from {{ ref('int_ocsf_activity') }}
    where ocsf_class = 'api_activity'
)

select
    {{ ocsf_columns('source_record_id', 6003, 'activity_id', 'occurred_at', 'provider', 'account_id',
        ocsf_base_pairs(6003, 'API Activity', 6, 'Application Activity', 'activity_id', 'activity_name',
            'source_record_id', 'occurred_at', 1, "'Informational'", ocsf_product('stream'), ocsf_vendor('provider'),
            'stream', 'event_type', ocsf_vendor('provider'), 'account_id', 'loaded_at')
        + [
            ('message', 'message'),
            ('actor', ocsf_actor('actor_id', 'actor_type', 'provider')),
            ('src_endpoint', ocsf_src_endpoint('source_ip', 'interface', 'provider')),
            ('api', json_object_of([
                ('operation', 'event_type'),
                ('service', json_object_of([('name', ocsf_service('provider', 'interface'))])),
            ])),
            ('resources', 'case when coalesce(resource_id, alternate_resource_id) is not null then '
                ~ json_array_of([json_object_of([
                    ('uid', 'resource_id'),
                    ('name', 'alternate_resource_id'),
                    ('type', 'resource_type'),
                    ('data', json_object_of([('changes', 'changes')])),
                ])]) ~ ' end'),
            ('unmapped', 'unmapped'),
        ]) }}
from events
{{ ocsf_new_events_only('source_record_id') }}
