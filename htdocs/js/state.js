/* The app's state, shared by its modules. */
export const S = {
  me: null, csrf: '', title: 'Chat',
  threadId: null, threadName: '', openGen: 0,
  steps: new Map(),           /* step id -> {output, feedback} */
  older: null,                /* the cursor of the thread's earlier steps (null: none) */
  olderLoading: false,
  list: { q: '', next: null, done: false, loading: false, gen: 0, items: [] },
  stream: null,               /* the running answer */
  files: [],                  /* chosen, not yet uploaded */
  uploading: false,
  uploadXhr: null             /* the upload being sent (Cancel aborts it) */
};
