import { css } from 'lit'
import { participantColorClasses } from '../session-element.js'

/** The list of participants, shared by <session-participants> and <session-moderation>. */
export const participantListStyles = css`
  .stats {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 0.9rem;
    margin: 0 0 0.5rem;
    padding: 0.35rem 0.6rem;
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    font-size: 0.8rem;
    list-style: none;
  }
  .stats strong {
    font-variant-numeric: tabular-nums;
  }
  .list {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.25rem;
  }
  .person {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.3rem 0.4rem;
    border-radius: 6px;
    flex-wrap: wrap;
  }
  .person.banned {
    opacity: 0.75;
  }
  .avatar {
    position: relative;
    flex: none;
    display: grid;
    place-items: center;
    inline-size: 2rem;
    block-size: 2rem;
    border-radius: 50%;
    background: var(--_c, var(--_accent));
    color: #fff;
    font-size: 0.75rem;
    font-weight: 600;
  }
  .avatar img {
    inline-size: 100%;
    block-size: 100%;
    border-radius: 50%;
    object-fit: cover;
  }
  .presence-dot {
    position: absolute;
    inset-block-end: -1px;
    inset-inline-end: -1px;
    inline-size: 0.7rem;
    block-size: 0.7rem;
    border-radius: 50%;
    border: 2px solid var(--_bg);
    background: var(--_muted);
  }
  .online .presence-dot {
    background: var(--_ok);
  }
  .who {
    flex: 1;
    min-width: 8rem;
    display: grid;
  }
  .name {
    font-weight: 600;
  }
  .meta {
    color: var(--_muted);
    font-size: 0.78rem;
  }
  .badge {
    font-size: 0.7rem;
    padding: 0.05rem 0.45rem;
    border-radius: 999px;
    border: 1px solid currentColor;
    text-transform: capitalize;
  }
  .badge.instructor {
    color: var(--session-color-instructor, light-dark(#6d28d9, #c4b5fd));
  }
  .badge.learner {
    color: var(--session-color-learner, light-dark(#0f766e, #5eead4));
  }
  .badge.observer {
    color: var(--_muted);
  }
  .flag {
    font-size: 0.72rem;
    color: var(--_warning);
  }
  ${participantColorClasses}
  .empty,
  .error {
    margin: 0.5rem 0;
  }
  /* Forced colours drop the presence dot's fill: online filled, offline hollow. */
  @media (forced-colors: active) {
    .presence-dot {
      forced-color-adjust: none;
      border-color: CanvasText;
      background: Canvas;
    }
    .online .presence-dot {
      background: CanvasText;
    }
  }
`

/** The raised hands, above the list (instructors). */
export const handQueueStyles = css`
  .hands {
    margin: 0 0 0.5rem;
    padding: 0.4rem 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .hands h3 {
    margin: 0 0 0.25rem;
    font-size: 0.9rem;
  }
  .hand-list {
    margin: 0 0 0.4rem;
    padding-inline-start: 1.4rem;
    display: grid;
    gap: 0.3rem;
  }
  .hand {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.5rem;
  }
  .question {
    overflow-wrap: anywhere;
  }
  .hands button,
  .person > button {
    font-size: 0.8rem;
    padding: 0.15rem 0.5rem;
  }
  .hands p {
    margin: 0;
  }
`
