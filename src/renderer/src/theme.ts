import { computed, ref, watchEffect } from 'vue';

// Light or dark: the person's choice in the settings, or the system's when they leave it to
// the system. The CSS variables hang off <html data-theme>; canvases and the editor, which do
// not read CSS by themselves, watch `dark`.

export type ThemeChoice = 'system' | 'light' | 'dark';

const media = window.matchMedia('(prefers-color-scheme: dark)');
const systemDark = ref(media.matches);
media.addEventListener('change', (e) => (systemDark.value = e.matches));

export const themeChoice = ref<ThemeChoice>('system');
export const dark = computed(() => themeChoice.value === 'dark' || (themeChoice.value === 'system' && systemDark.value));

watchEffect(() => {
  document.documentElement.dataset.theme = dark.value ? 'dark' : 'light';
});
