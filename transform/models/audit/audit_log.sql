{#- The account-change subset of `activity` (Twilio Monitor Events and Telnyx audit events): who
    changed what, from where, when — for auditors. -#}
select *
from {{ ref('activity') }}
where category = 'account_change'
