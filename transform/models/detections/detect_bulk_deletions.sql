{#- One actor deleting at least `bulk_deletion_threshold` resources (recordings, numbers, anything)
    within an hour. One finding per burst: the deletion that brought that actor's count over the
    previous hour to the threshold, after a deletion under it or more than an hour before. An event
    that is a bulk deletion by itself (`bulk_deletion_event_types`: Twilio's
    `recording.bulk-delete.created`, `message-media.deletedall`) is a finding of its own. -#}
{%- set threshold = var('bulk_deletion_threshold') -%}
{%- set bulk_types = var('bulk_deletion_event_types') -%}

with deletions as (
    select
        activity_key,
        provider,
        account_id,
        actor_id,
        actor_type,
        occurred_at,
        count(*) over (
            partition by provider, actor_id
            order by occurred_at
            range between interval '1 hour' preceding and current row
        ) as deletions_in_hour
    from {{ ref('activity') }}
    where activity = 'deleted'
      and category = 'account_change'
      and actor_id is not null
      and coalesce(event_type, '') not in ({%- for type in bulk_types %}'{{ type }}'{{ ", " if not loop.last }}{% endfor -%})
),

marked as (
    select
        *,
        lag(deletions_in_hour) over (partition by provider, actor_id order by occurred_at, activity_key) as count_before,
        lag(occurred_at) over (partition by provider, actor_id order by occurred_at, activity_key) as previous_at
    from deletions
)

select
    activity_key as finding_key,
    occurred_at as detected_at,
    provider,
    account_id,
    actor_id,
    actor_type,
    'deletions_within_an_hour' as reason,
    deletions_in_hour
from marked
where deletions_in_hour >= {{ threshold }}
  and (
      count_before < {{ threshold }}
      or count_before is null
      or previous_at < {{ dbt.dateadd('hour', -1, 'occurred_at') }}
  )

union all

select
    activity_key,
    occurred_at,
    provider,
    account_id,
    actor_id,
    actor_type,
    event_type,
    cast(null as {{ dbt.type_bigint() }})
from {{ ref('activity') }}
where category = 'account_change'
  and event_type in ({%- for type in bulk_types %}'{{ type }}'{{ ", " if not loop.last }}{% endfor -%})
